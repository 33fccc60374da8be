from hnth_kit.runner import main
from scheduling.app import SchedulingSettings, build

if __name__ == "__main__":
    main(SchedulingSettings, build)
