# disk: filled in by the disk storage work
