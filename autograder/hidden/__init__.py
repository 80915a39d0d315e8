"""Hidden cases: checked against torch, never shipped to students."""
