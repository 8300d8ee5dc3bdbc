"""Meeting the tools architects already use: specs in from Terraform and Kubernetes, plans out as
Terraform, Karmada and Infracost-shaped JSON."""
