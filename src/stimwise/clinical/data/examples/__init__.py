"""Example patient intakes shipped with stimwise (fictional, pseudonymous)."""
