"""One module per kind of source of footage: tweets, yt-dlp, direct files."""
