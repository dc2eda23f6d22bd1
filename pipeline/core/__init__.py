"""What every stage shares and no stage owns: small helpers without state of their own."""
