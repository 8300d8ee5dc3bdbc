"""Application spec: parse, validate and cross-check the YAML an architect writes."""

from .model import (
    AppSpec,
    Demand,
    Dependency,
    Policy,
    Service,
    UserGroup,
    check_against_catalog,
    load_spec,
    spec_from_data,
    spec_from_text,
)

__all__ = [
    "AppSpec",
    "Demand",
    "Dependency",
    "Policy",
    "Service",
    "UserGroup",
    "check_against_catalog",
    "load_spec",
    "spec_from_data",
    "spec_from_text",
]
