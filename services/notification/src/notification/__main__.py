from hnth_kit.runner import main
from notification.app import NotificationSettings, build

if __name__ == "__main__":
    main(NotificationSettings, build)
