"""Authentication: signing keys, access tokens and the resource protector."""
