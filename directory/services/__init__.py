"""The directory's services (writes); each module owns one part: listings (providers keep their services),
oruk (Open Referral UK import)."""
