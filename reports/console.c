/* console.c - placeholder */
