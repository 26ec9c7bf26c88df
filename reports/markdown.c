/* markdown.c - placeholder */
