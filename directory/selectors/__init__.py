"""The directory's selectors (reads): search, listings, suggestions for plans, Open Referral UK export."""
