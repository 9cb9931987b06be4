"""Builders for the Kubernetes objects the ML composers emit.

Each module builds one kind of object (a pod template, a Deployment, a
LeaderWorkerSet, a ResourceClaimTemplate, the routing objects, the endpoint
picker, the cache's hydration Job) as a plain wire dict, so the composers in
``modelplane_core.compose`` stay short and read as the decisions they make.
"""
