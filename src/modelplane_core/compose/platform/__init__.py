"""Building blocks of the platform team's composers (InferenceClass, InferenceCluster,
ServingStack, InferenceGateway and the cloud clusters).

Each module answers one question -- which devices a class may publish, which
pools a cluster publishes, which chart version a component runs, how a Helm
release or a provider config is spelled -- so the composers themselves read as
the decisions they make.
"""
