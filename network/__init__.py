"""The Commons domain: organisations, people, boards, workstreams, library, activity, digests."""
