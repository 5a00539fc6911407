//! The fault scenarios: a closed set, each switching one part of the
//! simulated Titan away from healthy. `README.md` beside this file documents
//! what each one changes and which runbook items it should fail; keep the two
//! in step.

use std::collections::BTreeSet;
use std::path::Path;

/// One fault (or `Healthy`, which changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scenario {
    Healthy,
    BrainDegraded,
    BreakerActive,
    MasterArmOff,
    OrphanedPosition,
    OversizedPosition,
    TooManyPositions,
    AllocationDrift,
    FundingExtreme,
    BtcRange12,
    EthRange12,
    SlowEndpoint,
    Pm2Errored,
    Pm2HighCpu,
    Pm2HighMemory,
    LogErrors,
    LogWarnings,
    StaleBackup,
    BadChecksum,
    RetentionExceeded,
    ApiKeyExpiring,
    ApiKeyExpired,
    RiskOutOfRange,
    WhitelistDisabled,
    ApprovalLow,
    ExecutionFailing,
    HighLeverage,
    HighLatency,
    WebsocketDown,
    WebsocketFlapping,
    PendingOrders,
    ExchangeDisconnected,
    CriticalAlert,
    ServicesDegraded,
    BrainDown,
    ExecutionDown,
    DatabaseDisconnected,
    PostgresDown,
    RedisDown,
    ReconciliationStale,
    ReconcileRefused,
    NavJump,
    MarketDataStale,
    DecisionsStale,
    PnlMismatch,
    BigLoss,
    PerformanceDegraded,
    PositionsMiscounted,
    LogsMissing,
    LogsStale,
    LogUnrotated,
    DbCorruptionLogged,
    OpsLogUnwritable,
    ScriptsFailing,
    ScriptsMissing,
    AiQuantDown,
    AiQuantDegraded,
}

/// Every scenario with its command-line name, in the README's order.
pub const ALL: &[(&str, Scenario)] = &[
    ("healthy", Scenario::Healthy),
    ("brain-degraded", Scenario::BrainDegraded),
    ("breaker-active", Scenario::BreakerActive),
    ("master-arm-off", Scenario::MasterArmOff),
    ("orphaned-position", Scenario::OrphanedPosition),
    ("oversized-position", Scenario::OversizedPosition),
    ("too-many-positions", Scenario::TooManyPositions),
    ("allocation-drift", Scenario::AllocationDrift),
    ("funding-extreme", Scenario::FundingExtreme),
    ("btc-range-12", Scenario::BtcRange12),
    ("eth-range-12", Scenario::EthRange12),
    ("slow-endpoint", Scenario::SlowEndpoint),
    ("pm2-errored", Scenario::Pm2Errored),
    ("pm2-high-cpu", Scenario::Pm2HighCpu),
    ("pm2-high-memory", Scenario::Pm2HighMemory),
    ("log-errors", Scenario::LogErrors),
    ("log-warnings", Scenario::LogWarnings),
    ("stale-backup", Scenario::StaleBackup),
    ("bad-checksum", Scenario::BadChecksum),
    ("retention-exceeded", Scenario::RetentionExceeded),
    ("api-key-expiring", Scenario::ApiKeyExpiring),
    ("api-key-expired", Scenario::ApiKeyExpired),
    ("risk-out-of-range", Scenario::RiskOutOfRange),
    ("whitelist-disabled", Scenario::WhitelistDisabled),
    ("approval-low", Scenario::ApprovalLow),
    ("execution-failing", Scenario::ExecutionFailing),
    ("high-leverage", Scenario::HighLeverage),
    ("high-latency", Scenario::HighLatency),
    ("websocket-down", Scenario::WebsocketDown),
    ("websocket-flapping", Scenario::WebsocketFlapping),
    ("pending-orders", Scenario::PendingOrders),
    ("exchange-disconnected", Scenario::ExchangeDisconnected),
    ("critical-alert", Scenario::CriticalAlert),
    ("services-degraded", Scenario::ServicesDegraded),
    ("brain-down", Scenario::BrainDown),
    ("execution-down", Scenario::ExecutionDown),
    ("database-disconnected", Scenario::DatabaseDisconnected),
    ("postgres-down", Scenario::PostgresDown),
    ("redis-down", Scenario::RedisDown),
    ("reconciliation-stale", Scenario::ReconciliationStale),
    ("reconcile-refused", Scenario::ReconcileRefused),
    ("nav-jump", Scenario::NavJump),
    ("market-data-stale", Scenario::MarketDataStale),
    ("decisions-stale", Scenario::DecisionsStale),
    ("pnl-mismatch", Scenario::PnlMismatch),
    ("big-loss", Scenario::BigLoss),
    ("performance-degraded", Scenario::PerformanceDegraded),
    ("positions-miscounted", Scenario::PositionsMiscounted),
    ("logs-missing", Scenario::LogsMissing),
    ("logs-stale", Scenario::LogsStale),
    ("log-unrotated", Scenario::LogUnrotated),
    ("db-corruption-logged", Scenario::DbCorruptionLogged),
    ("ops-log-unwritable", Scenario::OpsLogUnwritable),
    ("scripts-failing", Scenario::ScriptsFailing),
    ("scripts-missing", Scenario::ScriptsMissing),
    ("ai-quant-down", Scenario::AiQuantDown),
    ("ai-quant-degraded", Scenario::AiQuantDegraded),
];

impl Scenario {
    pub fn parse(name: &str) -> Result<Self, String> {
        ALL.iter().find(|(n, _)| *n == name.trim()).map(|&(_, s)| s).ok_or_else(|| {
            let names: Vec<&str> = ALL.iter().map(|(n, _)| *n).collect();
            format!("unknown scenario `{name}`; known: {}", names.join(", "))
        })
    }

    pub fn name(self) -> &'static str {
        ALL.iter().find(|(_, s)| *s == self).map_or("?", |(n, _)| n)
    }

    /// Whether the scenario is written into files (pm2's list, logs, backups, scripts), the initial
    /// state or the printed vars (a closed port) when the simulator starts, so switching it needs a restart.
    pub fn at_start_only(self) -> bool {
        matches!(
            self,
            Self::Pm2Errored
                | Self::Pm2HighCpu
                | Self::Pm2HighMemory
                | Self::LogErrors
                | Self::LogWarnings
                | Self::StaleBackup
                | Self::BadChecksum
                | Self::RetentionExceeded
                | Self::MasterArmOff
                | Self::PostgresDown
                | Self::RedisDown
                | Self::LogsMissing
                | Self::LogsStale
                | Self::LogUnrotated
                | Self::DbCorruptionLogged
                | Self::OpsLogUnwritable
                | Self::ScriptsFailing
                | Self::ScriptsMissing
                | Self::AiQuantDown
        )
    }
}

/// The active faults of one simulator run.
#[derive(Debug, Clone, Default)]
pub struct Scenarios(BTreeSet<Scenario>);

impl Scenarios {
    /// Names from `--scenario` flags plus an optional scenario file (a YAML or
    /// JSON list of names). `healthy` alone or nothing at all means no faults.
    pub fn from_args(names: &[String], file: Option<&Path>) -> Result<Self, String> {
        let mut all: Vec<String> = names.iter().flat_map(|n| n.split(',')).map(str::to_owned).collect();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read scenario file `{}`: {e}", path.display()))?;
            let listed: Vec<String> = serde_saphyr::from_str(&text)
                .map_err(|e| format!("scenario file `{}` is not a list of scenario names: {e}", path.display()))?;
            all.extend(listed);
        }
        Self::from_names(&all)
    }

    /// Names as they are; `healthy` adds nothing.
    pub fn from_names(names: &[String]) -> Result<Self, String> {
        let mut set = BTreeSet::new();
        for name in names.iter().filter(|n| !n.trim().is_empty()) {
            let scenario = Scenario::parse(name)?;
            if scenario != Scenario::Healthy {
                set.insert(scenario);
            }
        }
        Ok(Self(set))
    }

    pub fn has(&self, scenario: Scenario) -> bool {
        self.0.contains(&scenario)
    }

    /// The scenarios on in one set and off in the other.
    pub fn differences<'a>(&'a self, other: &'a Self) -> impl Iterator<Item = Scenario> + 'a {
        self.0.symmetric_difference(&other.0).copied()
    }

    /// The active names, `["healthy"]` when there is no fault.
    pub fn names(&self) -> Vec<&'static str> {
        if self.0.is_empty() { vec![Scenario::Healthy.name()] } else { self.0.iter().map(|s| s.name()).collect() }
    }
}
