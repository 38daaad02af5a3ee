"""Every write that changes compliance state: one module per workflow."""
