"""Member import (issue 16): Ghost, Substack, Mailchimp or any CSV into readers, opt-ins, labels and comps."""
