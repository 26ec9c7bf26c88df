/* expect.c - placeholder */
