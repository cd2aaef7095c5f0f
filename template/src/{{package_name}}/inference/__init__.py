"""Inference: batch scoring with the champion, and a local REST scoring server."""
