"""The stages that fetch footage: the collector, yt-dlp, direct files, web archives."""
