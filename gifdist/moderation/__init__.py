"""Safe-for-work moderation: scanners, the decision pipeline and the audit trail (the seed API).

Deliberately stricter than the seed: terms match as whole words after case, accent,
look-alike and leetspeak normalisation ("Essex" is not "sex", "p0rn" is "porn"); an
image nobody could look at is UNKNOWN, never SAFE; thresholds outside 0..1 raise
``ValueError``; and the audit trail is hash-chained, so an edited entry is detectable.
"""

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
