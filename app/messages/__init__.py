"""Secure messages between a patient and their clinic (DESIGN §4 "Messages", issue 12)."""
