"""The WeChat official-account channel: ``router`` serves /wechat; ``python -m channels.wechat menu``."""
