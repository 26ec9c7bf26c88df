/* kube_rules.c - placeholder */
