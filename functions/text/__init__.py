"""People's words: reading what they type; numbers, dates and sentences in the book's language."""
