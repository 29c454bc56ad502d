// Integration tests talk to real services and start real processes: give them time.
jest.setTimeout(120_000);
