"""Django-side services of the licences app: lineage graph, violations, policies, compliance."""
