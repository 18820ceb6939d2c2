"""A turn's budget and the faults of the services it calls: one deadline every outbound call of a turn shares
(`deadline`), the one fault type that names the service that failed (`faults`), and the one way to try a call again
within what is left of the turn (`retry`)."""
