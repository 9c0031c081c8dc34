"""The native REST API of the licences app (``/api/v1/``): compliance, policies, violations, lineage."""
