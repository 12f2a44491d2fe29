"""Orient: HNP referral assistant."""
