"""Values leaving Orient for another system: a sent referral as a FHIR R4 Bundle for the
hospital's software (`fhir`)."""
