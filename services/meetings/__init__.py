"""The meetings service: contact meetings, their decisions and action items."""
