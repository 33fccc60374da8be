from hnth_kit.runner import main
from inspection.app import InspectionSettings, build

if __name__ == "__main__":
    main(InspectionSettings, build)
