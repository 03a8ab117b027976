"""Shared readings of the cloud and the nodes: what probes, remedies and learn pages all read.

`nodes` reads node files and runs node commands through a transport; `neutron` interprets Neutron
records (external networks, router paths). Nothing here decides what a reading means for a tree.
"""
