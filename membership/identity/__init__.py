"""Identity: who a reader is (the reader row, consents and their evidence), how they
prove it (hashed single-use tokens, magic links) and their sessions. The lowest domain:
billing, newsletters and the reader application above all ask it, and it asks none of them."""
