# The repo's own inputs for each fuzz target: read by every run, never
# copied into the corpus.
seeds() {
    case $1 in
        playbook_load) echo ../playbooks ../examples ../tests/malformed ;;
        report_template) echo ../engine/templates ;;
        expression) ;;
    esac
}
