/* kubeconfig.c - placeholder */
