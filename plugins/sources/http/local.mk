# http: filled in by the HTTP source work
