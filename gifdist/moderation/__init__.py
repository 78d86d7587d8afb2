"""Safe-for-work moderation: scanners, the decision pipeline and the audit trail (the seed API)."""

from gifdist.moderation.pipeline import (
    AuditEntry,
    AuditStore,
    ContentCategory,
    ContentScanner,
    InMemoryAuditStore,
    ModerationDecision,
    ModerationError,
    ModerationPipeline,
    ModerationResult,
    VisualVerdict,
    verify_audit_chain,
)

__all__ = [
    "AuditEntry",
    "AuditStore",
    "ContentCategory",
    "ContentScanner",
    "InMemoryAuditStore",
    "ModerationDecision",
    "ModerationError",
    "ModerationPipeline",
    "ModerationResult",
    "VisualVerdict",
    "verify_audit_chain",
]
