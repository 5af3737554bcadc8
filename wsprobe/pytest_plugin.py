"""pytest plugin for wsprobe scenarios (filled in by the scenario-engine work)."""
