"""Files on tickets and comments: streamed uploads, content-addressed storage, safe downloads."""
