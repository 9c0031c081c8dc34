"""Thin views: parse the request, call a query module, render a template."""
