"""Reference spaces: the alignment maths, whole-section warping and chunked reference volumes.

Pure maths and file formats, shared by the server (image-sync services, plates) and the client
(warping sections without the server's help). The conventions are in docs/registration.md.
"""
