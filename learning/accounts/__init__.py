"""Accounts: users, roles, agencies and units; sign-in and sign-out."""
