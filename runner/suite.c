/* suite.c - placeholder */
