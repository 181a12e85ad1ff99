"""The shared runtime every service uses: settings, logging, database, inbox, outbox, timers and dead letters."""
