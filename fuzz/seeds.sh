# The seed inputs of each fuzz target, one folder per word: the repo's own
# inputs and the hand-written cases in fuzz/seeds/<target> (runaway loops,
# deep and long expressions, deep, chained and partial-including templates).
# Every run reads them; fuzz/run.sh starts a missing corpus/<target> from them.
seeds() {
    case $1 in
        playbook_load) echo ../playbooks ../examples ../tests/malformed ;;
        report_template) echo ../engine/templates seeds/report_template ;;
        expression) echo seeds/expression ;;
    esac
}
