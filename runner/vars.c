/* vars.c - placeholder */
