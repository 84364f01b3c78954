"""Where inbound mail comes from: Maildir, stdin, a file (and IMAP)."""
