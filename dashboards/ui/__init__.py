"""Shared pieces of the dashboard: i18n, cached library calls, display tables, charts, widgets."""
