"""Writing verified stimulation samples to files (only a VerifiedPlan can be exported)."""
