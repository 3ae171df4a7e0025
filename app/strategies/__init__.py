"""Strategies: create, validate, store, import and export them; the strategy store port."""
