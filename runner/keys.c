/* keys.c - placeholder */
